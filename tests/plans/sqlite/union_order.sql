EXPLAIN QUERY PLAN SELECT id FROM djapp_member WHERE customer_id = 1 UNION SELECT id FROM djapp_member WHERE score > 995 ORDER BY 1 LIMIT 3
