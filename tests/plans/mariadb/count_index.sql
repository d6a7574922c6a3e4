EXPLAIN FORMAT=JSON SELECT COUNT(*) FROM djapp_member WHERE customer_id = 7
