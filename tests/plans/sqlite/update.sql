EXPLAIN QUERY PLAN UPDATE djapp_member SET score = score + 1 WHERE customer_id = 7
