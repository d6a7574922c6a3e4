EXPLAIN FORMAT=JSON SELECT id FROM djapp_member WHERE customer_id = 1 UNION SELECT id FROM djapp_member WHERE email = 'user5@example.com'
