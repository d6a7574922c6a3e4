EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE role = 'staff'
