EXPLAIN FORMAT=JSON SELECT * FROM tiny FORCE INDEX (member_email_idx) WHERE email LIKE 'user1%'
