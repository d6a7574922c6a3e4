EXPLAIN QUERY PLAN SELECT t.name, m.id FROM djapp_team t JOIN djapp_member m ON m.score = t.id
