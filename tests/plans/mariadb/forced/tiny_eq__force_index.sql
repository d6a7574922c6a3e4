EXPLAIN FORMAT=JSON SELECT * FROM tiny FORCE INDEX (member_cust_role_idx) WHERE customer_id = 1 AND role = 'admin'
