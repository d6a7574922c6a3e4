EXPLAIN QUERY PLAN SELECT * FROM djapp_team t WHERE t.id IN (SELECT m.score FROM djapp_member m) AND t.name > ''
