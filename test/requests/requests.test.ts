// Issue #14 point 6: the customer requests work from the portal (what, where, when,
// up to 5 photos checked by their bytes and re-encoded), the business gets an email
// through the outbox and a Requests list on the dashboard, and turns a request into
// a draft proposal or a job in one click. An upcoming visit offers "Ask to
// reschedule", which makes a request tied to that job.
import crypto from 'node:crypto';
import { workRequestTitle } from '../../src/requests/commands.js';
import { expect } from 'chai';
import sharp from 'sharp';
import supertest from 'supertest';
import { getDb } from '../../src/db/knex.js';
import { withOrg } from '../../src/db/tenancy.js';
import { createJob } from '../../src/jobs/commands.js';
import { jobFormSchema } from '../../src/jobs/schema.js';
import { parseForm } from '../../src/lib/forms.js';
import { createTestLead, createTestOrg } from '../support/factories.js';
import { csrfFrom, loginAgent, testApp } from '../support/http.js';
import { linkFor, resetPortalMisses } from '../portal/support.js';

const app = () => supertest(testApp());

function formTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no portal form token on the page');
  return match[1].replace(/&#x3D;/g, '=');
}

/** A real photo: a PNG with an EXIF comment (metadata the stored copy must not keep). */
async function photo(width = 800, height = 600, color = '#2a6'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .withExif({ IFD0: { ImageDescription: 'secret-exif-marker' } })
    .png()
    .toBuffer();
}

const DESCRIPTION = 'The back gate sticks <script>alert(1)</script>\nand the fence post leans.';

async function setup() {
  const org = await createTestOrg({ plan: 'starter', name: 'Gate & Fence Co' });
  const lead = await createTestLead(org.orgId, {
    first_name: 'Pat',
    last_name: 'Gateowner',
    email: 'pat@example.com',
    address: '12 Elm St',
  });
  const { token } = await linkFor(org.orgId, lead.id);
  return { org, lead, token, form: `/p/${token}/request` };
}

const requestsOf = (orgId: string) =>
  getDb()('work_requests').where({ org_id: orgId }).orderBy('created_at').select<Record<string, unknown>[]>();
const photosOf = (requestId: string) =>
  getDb()('work_request_photos').where({ request_id: requestId }).orderBy('position').select<Record<string, unknown>[]>();
const noticesFor = (orgId: string) =>
  getDb()('message_deliveries')
    .where({ org_id: orgId })
    .whereNull('portal_link_id')
    .select<{ id: string; to_address: string; subject: string; body_text: string; body_html: string; context: string }[]>();

async function postRequest(form: string, fields: Record<string, string>, files: Buffer[] = [], csrf?: string) {
  const page = await app().get(form);
  let req = app()
    .post(form)
    .field('_csrf', csrf ?? formTokenFrom(page.text));
  for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
  for (const [i, file] of files.entries()) req = req.attach('photos', file, { filename: `photo-${i}.jpg`, contentType: 'image/jpeg' });
  return req;
}

async function upcomingJob(orgId: string, leadId: string, serviceType = 'Gate repair') {
  return withOrg(orgId, (db) =>
    createJob(
      db,
      parseForm(jobFormSchema, { lead_id: leadId, service_type: serviceType, scheduled_date: '2030-06-03', scheduled_time: '09:00' }),
      'UTC',
      { type: 'system', label: 'test' },
    ),
  );
}

describe('requests for work from the portal', () => {
  beforeEach(resetPortalMisses);

  it('stores what, where, when and re-encoded photos, and emails the business through the outbox', async () => {
    const { org, lead, form, token } = await setup();
    const page = await app().get(form);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('enctype="multipart/form-data"').and.to.contain('value="12 Elm St"').and.to.contain('Up to 5 photos');
    // The tab it is asked from stays marked.
    expect(page.text).to.match(/<a href="[^"]*\/history" aria-current="page">Service History/);

    const res = await postRequest(form, { description: DESCRIPTION, address: '', preferred_times: 'Weekday mornings' }, [
      await photo(),
      await photo(3000, 2000, '#a33'),
    ]);
    expect(res.status, res.text).to.equal(303);
    expect(res.headers.location).to.equal(`/p/${token}/request?sent=work`);

    const [row, ...more] = await requestsOf(org.orgId);
    expect(more).to.have.length(0);
    expect(row).to.include({
      lead_id: lead.id,
      kind: 'work',
      status: 'new',
      description: DESCRIPTION,
      preferred_times: 'Weekday mornings',
      job_id: null,
    });
    expect(row.address).to.equal('12 Elm St'); // left blank: the customer's address
    const photos = await photosOf(row.id as string);
    expect(photos).to.have.length(2);
    for (const p of photos) {
      const bytes = p.bytes as Buffer;
      expect(bytes.subarray(0, 3).toString('hex')).to.equal('ffd8ff'); // re-encoded to JPEG
      expect(bytes.toString('latin1')).not.to.contain('secret-exif-marker');
      expect(crypto.createHash('sha256').update(bytes).digest('hex')).to.equal(p.sha256);
    }
    expect(photos[1]).to.include({ width: 1600, height: 1067 }); // at most 1600 px a side

    const [notice, ...others] = await noticesFor(org.orgId);
    expect(others).to.have.length(0);
    expect(notice.to_address).to.equal(org.email);
    expect(notice.context).to.equal('service');
    expect(notice.subject).to.equal('Pat Gateowner asked for work');
    expect(notice.body_text)
      .to.contain('Weekday mornings')
      .and.to.contain(`/requests/${row.id as string}`)
      .and.to.contain('Photos: 2');
    expect(notice.body_html).to.contain('&lt;script&gt;').and.not.to.contain('<script>');
    const audit = await getDb()('audit_events')
      .where({ org_id: org.orgId, action: 'work_request.created' })
      .first<{ data: Record<string, unknown> }>();
    expect(audit.data).to.include({ kind: 'work', photos: 2 });

    const sent = await app().get(res.headers.location);
    expect(sent.text).to.contain('Your request was sent to Gate &amp; Fence Co');
  });

  it('refuses what is not an image, an SVG, a 6th photo, a photo over 10 MB, an empty message and a stale form, writing nothing', async () => {
    const { org, form } = await setup();
    const notImage = await postRequest(form, { description: 'Fix it' }, [Buffer.from('GIF89a not really an image at all')]);
    expect(notImage.status).to.equal(422);
    expect(notImage.text).to.contain('isn’t a PNG, JPEG or WebP image');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    const svgRes = await postRequest(form, { description: 'Fix it' }, [svg]);
    expect(svgRes.status).to.equal(422);
    expect(svgRes.text).to.contain('SVG photos aren’t accepted');
    const second = await postRequest(form, { description: 'Fix it' }, [await photo(), Buffer.from('nope')]);
    expect(second.status).to.equal(422);
    expect(second.text).to.contain('Photo 2: That file isn’t a PNG');
    const small = await photo(10, 10);
    const six = await postRequest(form, { description: 'Fix it' }, [small, small, small, small, small, small]);
    expect(six.status).to.equal(400);
    expect(six.text).to.contain('Add at most 5 photos');
    const big = await postRequest(form, { description: 'Fix it' }, [Buffer.alloc(10 * 1024 * 1024 + 1, 1)]);
    expect(big.status).to.equal(413);
    expect(big.text).to.contain('Each photo must be 10 MB or smaller');
    const empty = await postRequest(form, { description: '   ' });
    expect(empty.status).to.equal(422);
    // Said once, beside the field, which the page opens at.
    expect(empty.text.split('Tell us what you need done').length - 1).to.equal(1);
    expect(empty.text).to.match(/id="description"[^>]*aria-invalid="true"[^>]*autofocus/);
    const stale = await postRequest(form, { description: 'Fix it' }, [], 'not-the-token');
    expect(stale.status).to.equal(403);
    // Another customer's form token is refused too.
    const other = await setup();
    const foreign = await postRequest(form, { description: 'Fix it' }, [], formTokenFrom((await app().get(other.form)).text));
    expect(foreign.status).to.equal(403);
    const unknown = await app()
      .post(`/p/${'A'.repeat(43)}/request`)
      .field('description', 'x');
    expect(unknown.status).to.equal(404);

    expect(await requestsOf(org.orgId)).to.have.length(0);
    expect(await noticesFor(org.orgId)).to.have.length(0);
  });

  it('offers "Ask to reschedule" on an upcoming visit and makes a request tied to that job', async () => {
    const { org, lead, token } = await setup();
    const job = await upcomingJob(org.orgId, lead.id);
    const done = await upcomingJob(org.orgId, lead.id, 'Old repair');
    await getDb()('jobs').where({ id: done.id }).update({ status: 'completed', completed_at: new Date() });

    const history = await app().get(`/p/${token}/history`);
    expect(history.text).to.contain(`/p/${token}/visits/${job.id}/reschedule`).and.to.contain('Ask to reschedule');
    expect(history.text).not.to.contain(`/visits/${done.id}/reschedule`);
    expect((await app().get(`/p/${token}/visits/${done.id}/reschedule`)).status).to.equal(404);

    const url = `/p/${token}/visits/${job.id}/reschedule`;
    const page = await app().get(url);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Gate repair');
    const missing = await app()
      .post(url)
      .type('form')
      .send({ _csrf: formTokenFrom(page.text), description: 'Away that week' });
    expect(missing.status).to.equal(422);
    expect(missing.text).to.contain('Tell us which days or times suit you');
    const res = await app()
      .post(url)
      .type('form')
      .send({ _csrf: formTokenFrom(page.text), description: 'Away that week', preferred_times: 'The week after, any morning' });
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal(`/p/${token}/request?sent=reschedule`);
    const [row] = await requestsOf(org.orgId);
    expect(row).to.include({ kind: 'reschedule', job_id: job.id, preferred_times: 'The week after, any morning', status: 'new' });
    const [notice] = await noticesFor(org.orgId);
    expect(notice.subject).to.equal('Pat Gateowner asked to reschedule “Gate repair”');
    // Service History says it was asked (the page kept from before is not sent again), instead of offering to ask again.
    const asked = await app().get(`/p/${token}/history`);
    expect(asked.text).to.match(/You asked to move this visit on [A-Z][a-z]{2} \d{1,2}, \d{4}; [^<]+ will get back to you\./);
    expect(asked.text).not.to.contain(`/p/${token}/visits/${job.id}/reschedule`);

    // Another customer's visit: the same 404 as a missing one, and nothing written.
    const other = await setup();
    const theirJob = await upcomingJob(other.org.orgId, other.lead.id);
    const foreign = await app()
      .post(`/p/${token}/visits/${theirJob.id}/reschedule`)
      .type('form')
      .send({ _csrf: formTokenFrom(page.text), description: 'x', preferred_times: 'y' });
    expect(foreign.status).to.equal(404);
    expect(await requestsOf(other.org.orgId)).to.have.length(0);

    // The business sees the visit on the request; a reschedule isn't converted, it is closed once handled.
    const agent = await loginAgent(org.email, org.password);
    const show = await agent.get(`/requests/${row.id as string}`);
    expect(show.text).to.contain(`href="/jobs/${job.id}"`).and.to.contain('Asked to reschedule');
    expect(show.text).not.to.contain('/convert"');
    const csrf = csrfFrom(show.text);
    const refused = await agent
      .post(`/requests/${row.id as string}/convert`)
      .type('form')
      .send({ _csrf: csrf, to: 'job' });
    expect(refused.status).to.equal(409);
    const closed = await agent
      .post(`/requests/${row.id as string}/close`)
      .type('form')
      .send({ _csrf: csrf });
    expect(closed.status).to.equal(303);
    const after = await getDb()('work_requests').where({ id: row.id }).first<{ status: string; closed_at: Date | null }>();
    expect(after.status).to.equal('closed');
    expect(after.closed_at).to.be.instanceOf(Date);
    // Handled: the visit offers to ask again.
    const reopened = await app().get(`/p/${token}/history`);
    expect(reopened.text).to.contain(`/p/${token}/visits/${job.id}/reschedule`).and.not.to.contain('You asked to move this visit');
  });
});

describe('requests on the dashboard', () => {
  beforeEach(resetPortalMisses);

  async function withRequest() {
    const ctx = await setup();
    const res = await postRequest(ctx.form, { description: DESCRIPTION, address: '9 Oak Ave', preferred_times: 'Fridays' }, [
      await photo(),
    ]);
    expect(res.status).to.equal(303);
    const [row] = await requestsOf(ctx.org.orgId);
    const agent = await loginAgent(ctx.org.email, ctx.org.password);
    return { ...ctx, agent, id: row.id as string };
  }

  it('lists new requests with a count in the navigation, and shows one with its photos to the org only', async () => {
    const { agent, id, org } = await withRequest();
    const home = await agent.get('/');
    expect(home.text).to.match(/href="\/requests"[^>]*>Requests <span class="nav-count">1<span class="visually-hidden"> new<\/span>/);
    const list = await agent.get('/requests');
    expect(list.status).to.equal(200);
    expect(list.text).to.contain(`href="/requests/${id}"`).and.to.contain('The back gate sticks &lt;script&gt;');
    expect(list.text).not.to.contain('<script>alert(1)');
    const filtered = await agent.get('/requests?status=closed');
    expect(filtered.text).not.to.contain(`href="/requests/${id}"`);

    const show = await agent.get(`/requests/${id}`);
    expect(show.text).to.contain('9 Oak Ave').and.to.contain('Fridays').and.to.contain('Make a proposal').and.to.contain('Make a job');
    const [photoRow] = await photosOf(id);
    const src = `/requests/${id}/photos/${photoRow.id as string}`;
    expect(show.text).to.contain(`src="${src}"`);
    const image = await agent.get(src).buffer(true);
    expect(image.status).to.equal(200);
    expect(image.headers['content-type']).to.equal('image/jpeg');
    expect(image.headers['cache-control']).to.equal('no-store');
    expect((image.body as Buffer).equals(photoRow.bytes as Buffer)).to.equal(true);

    // Nobody else: logged out, or another org's owner.
    const anonymous = await app().get(src);
    expect(anonymous.status).to.equal(302);
    expect(anonymous.headers.location).to.match(/^\/login/);
    const stranger = await createTestOrg();
    const theirs = await loginAgent(stranger.email, stranger.password);
    expect((await theirs.get(src)).status).to.equal(404);
    expect((await theirs.get(`/requests/${id}`)).status).to.equal(404);
    expect((await theirs.get('/requests')).text).not.to.contain(id);
    expect(org.orgId).to.be.a('string');
  });

  it('turns a request into a draft proposal in one click, linked and audited, and only once', async () => {
    const { agent, id, org, lead } = await withRequest();
    const show = await agent.get(`/requests/${id}`);
    const csrf = csrfFrom(show.text);
    const res = await agent.post(`/requests/${id}/convert`).type('form').send({ _csrf: csrf, to: 'proposal' });
    expect(res.status).to.equal(303);
    const row = await getDb()('work_requests').where({ id }).first<{ status: string; proposal_id: string; converted_at: Date }>();
    expect(row.status).to.equal('converted');
    expect(res.headers.location).to.equal(`/proposals/${row.proposal_id}/edit`);
    const proposal = await getDb()('proposals').where({ id: row.proposal_id }).first<Record<string, unknown>>();
    expect(proposal).to.include({
      lead_id: lead.id,
      status: 'draft',
      title: 'The back gate sticks <script>alert(1)</script>',
      org_id: org.orgId,
    });
    expect(proposal.internal_notes).to.contain('and the fence post leans.').and.to.contain('When suits them: Fridays');
    // The day as the business reads dates, in its own time zone: not ISO, not UTC's.
    expect(proposal.internal_notes).to.match(/^From the customer’s request of [A-Z][a-z]{2} \d{1,2}, \d{4}:/);
    const actions = await getDb()('audit_events')
      .where({ org_id: org.orgId })
      .whereIn('action', ['proposal.created', 'work_request.converted'])
      .pluck('action');
    expect(actions).to.have.members(['proposal.created', 'work_request.converted']);

    const again = await agent.post(`/requests/${id}/convert`).type('form').send({ _csrf: csrf, to: 'job' });
    expect(again.status).to.equal(409);
    expect(await getDb()('proposals').where({ org_id: org.orgId }).pluck('id')).to.deep.equal([row.proposal_id]);
    expect(await getDb()('jobs').where({ org_id: org.orgId }).pluck('id')).to.deep.equal([]);

    const after = await agent.get(`/requests/${id}`);
    expect(after.text).to.contain(`href="/proposals/${row.proposal_id}"`).and.not.to.contain('Make a proposal');
    expect((await agent.get('/')).text).not.to.contain('class="nav-count"');
  });

  it('turns a request into a job to schedule, at the request’s address', async () => {
    const { agent, id, lead } = await withRequest();
    const csrf = csrfFrom((await agent.get(`/requests/${id}`)).text);
    const bad = await agent.post(`/requests/${id}/convert`).type('form').send({ _csrf: csrf, to: 'invoice' });
    expect(bad.status).to.equal(422);
    expect((await getDb()('work_requests').where({ id }).first<{ status: string }>()).status).to.equal('new');
    const res = await agent.post(`/requests/${id}/convert`).type('form').send({ _csrf: csrf, to: 'job' });
    expect(res.status).to.equal(303);
    const row = await getDb()('work_requests').where({ id }).first<{ status: string; converted_job_id: string }>();
    expect(row.status).to.equal('converted');
    expect(res.headers.location).to.equal(`/jobs/${row.converted_job_id}/edit`);
    const job = await getDb()('jobs').where({ id: row.converted_job_id }).first<Record<string, unknown>>();
    expect(job).to.include({ lead_id: lead.id, status: 'scheduled', scheduled_at: null, address: '9 Oak Ave' });
  });

  it('titles the new record by the request’s first sentence, cut at a word when long', () => {
    const title = (description: string) => workRequestTitle({ kind: 'work', description });
    expect(title('Fix the gate.\nIt sticks in the rain.')).to.equal('Fix the gate');
    expect(title('The AC upstairs is blowing warm air. It started on Sunday near the vents.')).to.equal(
      'The AC upstairs is blowing warm air',
    );
    expect(title('Is the roof leaking? Water on the ceiling')).to.equal('Is the roof leaking?');
    const long = title(`${'word '.repeat(30)}end`);
    expect(long.length).to.be.at.most(80);
    expect(long).to.match(/^(word )+word…$/);
    expect(title('x'.repeat(100))).to.equal(`${'x'.repeat(79)}…`);
    // An abbreviation is no sentence; a description with nothing to name it by gets the kind's name.
    expect(title('Dr. Patel referred us, the AC is broken')).to.equal('Dr. Patel referred us, the AC is broken');
    expect(title('.')).to.equal('dashboard:request.workTitle');
  });
});
