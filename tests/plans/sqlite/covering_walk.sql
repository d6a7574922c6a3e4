EXPLAIN QUERY PLAN SELECT customer_id, role FROM djapp_member WHERE role = 'staff'
