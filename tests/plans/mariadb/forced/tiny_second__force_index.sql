EXPLAIN FORMAT=JSON SELECT * FROM tiny FORCE INDEX (member_cust_role_idx) WHERE role = 'admin'
