EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE customer_id > 3 ORDER BY customer_id, score
