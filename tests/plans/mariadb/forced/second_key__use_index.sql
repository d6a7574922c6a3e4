EXPLAIN FORMAT=JSON SELECT * FROM djapp_member USE INDEX (member_cust_role_idx) WHERE role = 'admin'
