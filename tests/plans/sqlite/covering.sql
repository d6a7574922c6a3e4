EXPLAIN QUERY PLAN SELECT customer_id, role FROM djapp_member WHERE customer_id = 3
