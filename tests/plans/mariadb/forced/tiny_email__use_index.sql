EXPLAIN FORMAT=JSON SELECT * FROM tiny USE INDEX (member_email_idx) WHERE email = 'user1@example.com'
