EXPLAIN QUERY PLAN SELECT "djapp_member"."id", "djapp_member"."team_id", "djapp_member"."customer_id", "djapp_member"."role", "djapp_member"."email", "djapp_member"."score", "djapp_member"."created" FROM "djapp_member" WHERE "djapp_member"."team_id" IN (SELECT U0."id" FROM "djapp_team" U0 WHERE U0."name" LIKE %s ESCAPE '\')
-- params: ["team1%"]
