EXPLAIN FORMAT=JSON SELECT * FROM tiny FORCE INDEX FOR ORDER BY (member_cust_role_idx) WHERE role = 'admin'
