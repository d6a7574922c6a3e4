EXPLAIN FORMAT=JSON SELECT `djapp_member`.`id` FROM `djapp_member` WHERE `djapp_member`.`team_id` IN (SELECT U0.`id` FROM `djapp_team` U0 WHERE U0.`name` LIKE 'team1%')
