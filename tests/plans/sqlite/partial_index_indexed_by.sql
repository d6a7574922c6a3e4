EXPLAIN QUERY PLAN SELECT * FROM djapp_member INDEXED BY member_admin_idx WHERE customer_id = 3 AND role = 'admin'
