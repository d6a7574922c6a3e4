EXPLAIN FORMAT=JSON DELETE FROM djapp_member WHERE email = 'nobody@example.com'
