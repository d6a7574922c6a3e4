SET STATEMENT max_seeks_for_key=1 FOR EXPLAIN FORMAT=JSON SELECT * FROM tiny WHERE email = 'user1@example.com'
