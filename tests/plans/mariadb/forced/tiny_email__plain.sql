EXPLAIN FORMAT=JSON SELECT * FROM tiny WHERE email = 'user1@example.com'
