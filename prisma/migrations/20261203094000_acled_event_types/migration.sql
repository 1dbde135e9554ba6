-- ACLED's sub-event types, each as an event type of its own (issue 16): before, an ACLED import
-- typed every shelling, protest, riot and most strategic developments `other`. Each new type's
-- label is ACLED's name of its sub-event type, so the import finds it even where an older, narrower
-- type shares its pair (prisoner_exchange is an Agreement too; docs/acled.md). ACLED's own Other
-- stays `other`, with its types kept in acled: tags as before.
INSERT INTO "event_types" ("code", "label", "description", "acled_event_type", "acled_sub_event_type") VALUES
    ('territory_regained', 'Government regains territory', 'Government forces or their allies take back territory held by a non-state group.', 'Battles', 'Government regains territory'),
    ('territory_taken', 'Non-state actor overtakes territory', 'A non-state armed group takes territory from the government or from another group.', 'Battles', 'Non-state actor overtakes territory'),
    ('shelling', 'Shelling/artillery/missile attack', 'Artillery, rocket or missile fire from the ground or the sea.', 'Explosions/Remote violence', 'Shelling/artillery/missile attack'),
    ('explosive_device', 'Remote explosive/landmine/IED', 'A landmine, an improvised or a remotely detonated explosive device goes off.', 'Explosions/Remote violence', 'Remote explosive/landmine/IED'),
    ('grenade', 'Grenade', 'A grenade or similar hand-thrown explosive is used.', 'Explosions/Remote violence', 'Grenade'),
    ('suicide_bomb', 'Suicide bomb', 'An attacker detonates explosives on themselves or in a vehicle they drive.', 'Explosions/Remote violence', 'Suicide bomb'),
    ('chemical_weapon', 'Chemical weapon', 'A chemical weapon is used.', 'Explosions/Remote violence', 'Chemical weapon'),
    ('abduction', 'Abduction/forced disappearance', 'People are abducted or made to disappear by an armed or organised party.', 'Violence against civilians', 'Abduction/forced disappearance'),
    ('sexual_violence', 'Sexual violence', 'Sexual violence by an armed or organised party.', 'Violence against civilians', 'Sexual violence'),
    ('protest', 'Peaceful protest', 'A public demonstration without violence and without intervention against it.', 'Protests', 'Peaceful protest'),
    ('protest_intervention', 'Protest with intervention', 'A peaceful demonstration that the authorities or others try to disperse or suppress.', 'Protests', 'Protest with intervention'),
    ('excessive_force', 'Excessive force against protesters', 'Lethal or severe force used against peaceful demonstrators.', 'Protests', 'Excessive force against protesters'),
    ('riot', 'Violent demonstration', 'A demonstration in which participants use violence or destroy property.', 'Riots', 'Violent demonstration'),
    ('mob_violence', 'Mob violence', 'A crowd without organisation attacks people or property.', 'Riots', 'Mob violence'),
    ('agreement', 'Agreement', 'Parties agree on something: a ceasefire, a peace deal, an exchange, a handover.', 'Strategic developments', 'Agreement'),
    ('arrest', 'Arrests', 'The authorities arrest or detain people (not in battle).', 'Strategic developments', 'Arrests'),
    ('group_change', 'Change to group/activity', 'A party changes: a new group, a merger, a change of leadership, a new kind of activity.', 'Strategic developments', 'Change to group/activity'),
    ('weapons_disrupted', 'Disrupted weapons use', 'An attack is prevented: weapons seized, a device defused, a strike intercepted.', 'Strategic developments', 'Disrupted weapons use'),
    ('base_established', 'Headquarters or base established', 'A party sets up a headquarters or a base.', 'Strategic developments', 'Headquarters or base established'),
    ('looting', 'Looting/property destruction', 'Property is looted or destroyed without a clash.', 'Strategic developments', 'Looting/property destruction'),
    ('territory_transfer', 'Non-violent transfer of territory', 'Territory changes hands without fighting.', 'Strategic developments', 'Non-violent transfer of territory');
