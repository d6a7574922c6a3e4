EXPLAIN FORMAT=JSON SELECT * FROM djapp_member FORCE INDEX (member_email_idx) WHERE email LIKE 'user1%'
