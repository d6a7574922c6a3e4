EXPLAIN QUERY PLAN SELECT * FROM djapp_member INDEXED BY member_created_desc_idx ORDER BY created DESC LIMIT 10
