EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE email IN ('a', 'b', 'c')
