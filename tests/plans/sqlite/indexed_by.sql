EXPLAIN QUERY PLAN SELECT * FROM djapp_member INDEXED BY member_email_idx WHERE email LIKE 'user1%'
