EXPLAIN FORMAT=JSON SELECT * FROM djapp_member WHERE customer_id = 3 OR email = 'user5@example.com'
