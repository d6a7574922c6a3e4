EXPLAIN FORMAT=JSON SELECT * FROM djapp_member FORCE INDEX (member_cust_role_idx) WHERE role = 'admin'
