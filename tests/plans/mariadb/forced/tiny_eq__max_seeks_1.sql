SET STATEMENT max_seeks_for_key=1 FOR EXPLAIN FORMAT=JSON SELECT * FROM tiny WHERE customer_id = 1 AND role = 'admin'
