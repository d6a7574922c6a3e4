EXPLAIN FORMAT=JSON SELECT * FROM djapp_member WHERE role = 'admin'
