EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE email LIKE 'user1%'
