EXPLAIN QUERY PLAN SELECT "djapp_team"."id", "djapp_team"."name" FROM "djapp_team" WHERE EXISTS(SELECT %s AS "a" FROM "djapp_member" U0 WHERE (U0."score" > %s AND U0."team_id" = ("djapp_team"."id")) LIMIT 1)
-- params: [1, 990]
