EXPLAIN FORMAT=JSON SELECT * FROM djapp_member WHERE customer_id = 7 ORDER BY score
