EXPLAIN FORMAT=JSON SELECT * FROM tiny WHERE customer_id = 1 AND role = 'admin'
