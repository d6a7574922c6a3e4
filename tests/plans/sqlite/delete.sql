EXPLAIN QUERY PLAN DELETE FROM djapp_member WHERE email = 'nobody@example.com'
