EXPLAIN QUERY PLAN SELECT id FROM djapp_member WHERE customer_id = 1 UNION ALL SELECT id FROM djapp_member WHERE score > 995
