EXPLAIN QUERY PLAN SELECT customer_id, COUNT(*) FROM djapp_member GROUP BY customer_id
