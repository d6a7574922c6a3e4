EXPLAIN QUERY PLAN SELECT * FROM djapp_member m JOIN djapp_team t ON m.score = t.name
