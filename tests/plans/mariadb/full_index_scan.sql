EXPLAIN FORMAT=JSON SELECT customer_id, role FROM djapp_member WHERE role = 'admin'
