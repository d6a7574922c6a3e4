EXPLAIN FORMAT=JSON SELECT * FROM tiny USE INDEX (member_cust_role_idx) WHERE role = 'admin'
