EXPLAIN QUERY PLAN SELECT customer_id FROM djapp_member WHERE role = 'admin' AND customer_id > 40
