EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE email LIKE '%7@example.com'
