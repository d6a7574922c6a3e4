EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE customer_id = 3 AND role = 'admin'
