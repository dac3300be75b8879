import { expect } from 'chai';
import { getDb } from '../../src/db/knex.js';
import { loginAgent, type Agent } from '../support/http.js';
import { createTestOrg, createTestStaff, type TestOrg } from '../support/factories.js';
import type { AuditEventRecord, UserRecord } from '../support/rows.js';

type LoggedIn = Agent & { csrf: string };

async function user(id: string) {
  return getDb()('users').where({ id }).first<UserRecord | undefined>();
}

describe('settings: team members and roles', () => {
  let owner: TestOrg;
  let agent: LoggedIn;

  beforeEach(async () => {
    owner = await createTestOrg();
    agent = await loginAgent(owner.email, owner.password);
  });

  it('lists members and pending invitations', async () => {
    const staff = await createTestStaff(owner.orgId);
    const res = await agent.get('/settings/team');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain(owner.email);
    expect(res.text).to.contain(staff.email);
  });

  it('lets the owner remove a member, who is logged out on their next request', async () => {
    const staff = await createTestStaff(owner.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    const res = await agent.post(`/settings/team/members/${staff.userId}/remove`).type('form').send({ _csrf: agent.csrf });
    expect(res.status).to.equal(303);
    expect(await user(staff.userId)).to.equal(undefined);
    const audit = await getDb()('audit_events')
      .where({ org_id: owner.orgId, action: 'user.removed', subject_id: staff.userId })
      .first<AuditEventRecord>();
    expect(audit.data.email).to.equal(staff.email);
    const after = await staffAgent.get('/');
    expect(after.status).to.equal(302);
    expect(after.headers.location).to.match(/^\/login/);
  });

  it('refuses to remove the last owner, with a message', async () => {
    const res = await agent.post(`/settings/team/members/${owner.userId}/remove`).type('form').send({ _csrf: agent.csrf });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('only owner');
    expect(await user(owner.userId)).to.include({ role: 'owner' });
    const demote = await agent.post(`/settings/team/members/${owner.userId}/role`).type('form').send({ role: 'staff', _csrf: agent.csrf });
    expect(demote.status).to.equal(422);
    expect(await user(owner.userId)).to.include({ role: 'owner' });
  });

  it('lets an owner promote staff, after which either owner can be removed but not both', async () => {
    const staff = await createTestStaff(owner.orgId);
    const promote = await agent.post(`/settings/team/members/${staff.userId}/role`).type('form').send({ role: 'owner', _csrf: agent.csrf });
    expect(promote.status).to.equal(303);
    expect(await user(staff.userId)).to.include({ role: 'owner' });
    const second = await loginAgent(staff.email, staff.password);
    expect((await second.post(`/settings/team/members/${owner.userId}/remove`).type('form').send({ _csrf: second.csrf })).status).to.equal(
      303,
    );
    expect(await user(owner.userId)).to.equal(undefined);
    const last = await second.post(`/settings/team/members/${staff.userId}/remove`).type('form').send({ _csrf: second.csrf });
    expect(last.status).to.equal(422);
    expect(await user(staff.userId)).to.include({ role: 'owner' });
  });

  it('answers 404 for a member of another org, exactly like a missing one, and removes nobody', async () => {
    const other = await createTestOrg();
    const otherStaff = await createTestStaff(other.orgId);
    const res = await agent.post(`/settings/team/members/${otherStaff.userId}/remove`).type('form').send({ _csrf: agent.csrf });
    expect(res.status).to.equal(404);
    const missing = await agent
      .post('/settings/team/members/00000000-0000-4000-8000-000000000000/remove')
      .type('form')
      .send({ _csrf: agent.csrf });
    expect(missing.status).to.equal(404);
    const malformed = await agent.post('/settings/team/members/nope/remove').type('form').send({ _csrf: agent.csrf });
    expect(malformed.status).to.equal(404);
    expect(await user(otherStaff.userId)).to.be.an('object');
  });

  it('answers 403 to staff on every team route, changing nothing', async () => {
    const staff = await createTestStaff(owner.orgId);
    const colleague = await createTestStaff(owner.orgId);
    const staffAgent = await loginAgent(staff.email, staff.password);
    expect((await staffAgent.get('/settings/team')).status).to.equal(403);
    const remove = await staffAgent.post(`/settings/team/members/${colleague.userId}/remove`).type('form').send({ _csrf: staffAgent.csrf });
    expect(remove.status).to.equal(403);
    const removeOwner = await staffAgent
      .post(`/settings/team/members/${owner.userId}/remove`)
      .type('form')
      .send({ _csrf: staffAgent.csrf });
    expect(removeOwner.status).to.equal(403);
    const promote = await staffAgent
      .post(`/settings/team/members/${staff.userId}/role`)
      .type('form')
      .send({ role: 'owner', _csrf: staffAgent.csrf });
    expect(promote.status).to.equal(403);
    expect(await user(colleague.userId)).to.include({ role: 'staff' });
    expect(await user(owner.userId)).to.include({ role: 'owner' });
    expect(await user(staff.userId)).to.include({ role: 'staff' });
  });

  it('refuses a removal without the CSRF token', async () => {
    const staff = await createTestStaff(owner.orgId);
    const res = await agent.post(`/settings/team/members/${staff.userId}/remove`).type('form').send({});
    expect(res.status).to.equal(403);
    expect(await user(staff.userId)).to.be.an('object');
  });
});
