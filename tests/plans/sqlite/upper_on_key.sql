EXPLAIN QUERY PLAN SELECT * FROM djapp_member WHERE customer_id = 7 AND UPPER(role) = 'STAFF'
