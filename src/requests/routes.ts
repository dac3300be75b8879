// Dashboard pages for requests from the portal: the list, one request with its
// photos (served only here, to the org's signed-in users), and the one-click
// conversion into a draft proposal or a job.
import { Router } from 'express';
import { orgPage } from '../http/page.js';
import { parseForm } from '../lib/forms.js';
import { routeId } from '../lib/ids.js';
import { pageOf, pageWindow, statusFilterOptions } from '../lib/pagination.js';
import { getJob } from '../jobs/queries.js';
import { getLead, leadName } from '../leads/queries.js';
import { closeWorkRequest, convertWorkRequest, workRequestTitle } from './commands.js';
import { getWorkRequest, listWorkRequests, workRequestPhotoBytes, workRequestPhotos } from './queries.js';
import { convertForm, requestListQuery, WORK_REQUEST_STATUSES } from './schema.js';

export const adminRouter = Router();

adminRouter.get(
  '/requests',
  orgPage(async ({ req, db }) => {
    const query = requestListQuery.parse(req.query);
    const rows = await listWorkRequests(db, { status: query.status, ...pageWindow(query.page) });
    const page = pageOf(rows, query.page, '/requests', query.status ? { status: query.status } : {});
    return {
      render: 'admin/requests/index',
      locals: {
        title: 'dashboard:nav.requests',
        requests: page.rows.map((row) => ({ ...row, title: workRequestTitle(row) })),
        query,
        statusOptions: statusFilterOptions(WORK_REQUEST_STATUSES),
        pagination: page.pagination,
      },
    };
  }),
);

adminRouter.get(
  '/requests/:id',
  orgPage(async ({ req, db }) => {
    const request = await getWorkRequest(db, routeId(req.params));
    const lead = await getLead(db, request.lead_id);
    const photos = await workRequestPhotos(db, request.id);
    const job = request.job_id ? await getJob(db, request.job_id) : null;
    const convertedJob = request.converted_job_id ? await getJob(db, request.converted_job_id) : null;
    const proposal = request.proposal_id
      ? await db('proposals')
          .where({ id: request.proposal_id })
          .first<{ id: string; number: number; title: string }>('id', 'number', 'title')
      : null;
    return {
      render: 'admin/requests/show',
      locals: {
        title: workRequestTitle(request),
        request,
        lead,
        leadName: leadName(lead),
        photos: photos.map((photo) => ({ ...photo, number: photo.position + 1, url: `/requests/${request.id}/photos/${photo.id}` })),
        job,
        convertedJob,
        proposal,
        open: request.status === 'new',
        convertible: request.status === 'new' && request.kind === 'work',
      },
    };
  }),
);

// A customer's photo: only through an org-scoped page (RLS), never a public URL.
adminRouter.get(
  '/requests/:id/photos/:photoId',
  orgPage(async ({ req, db }) => {
    const photo = await workRequestPhotoBytes(db, routeId(req.params), routeId(req.params, 'photoId'));
    return {
      file: {
        body: photo.bytes,
        contentType: photo.content_type,
        filename: `request-photo-${photo.position + 1}.jpg` /* i18n-exempt: a file name */,
        inline: true,
      },
    };
  }),
);

adminRouter.post(
  '/requests/:id/convert',
  orgPage(async ({ req, db, org, actor }) => {
    const request = await getWorkRequest(db, routeId(req.params));
    const { to } = parseForm(convertForm, req.body);
    const made = await convertWorkRequest(db, request.id, to, org, actor);
    if (made.proposalId) return { redirect: `/proposals/${made.proposalId}/edit`, flash: 'dashboard:request.madeProposalFlash' };
    return { redirect: `/jobs/${made.jobId}/edit`, flash: 'dashboard:request.madeJobFlash' };
  }),
);

adminRouter.post(
  '/requests/:id/close',
  orgPage(async ({ req, db, actor }) => {
    const request = await getWorkRequest(db, routeId(req.params));
    await closeWorkRequest(db, request.id, actor);
    return { redirect: `/requests/${request.id}`, flash: 'dashboard:request.closedFlash' };
  }),
);
