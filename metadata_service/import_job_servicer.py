"""The metadata service's ImportJobService over gRPC: proto -> domain -> core -> proto, nothing else."""

from audiosearch.metadata.v1 import import_job_service_pb2 as pb2
from audiosearch.metadata.v1 import import_job_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert
from audiosearch.runtime import import_jobs as jobs
from metadata_service.import_jobs import ImportJobCore

_WHICH = {
    pb2.ListImportJobFilesRequest.WHICH_PENDING: "PENDING",
    pb2.ListImportJobFilesRequest.WHICH_FAILED: "FAILED",
    pb2.ListImportJobFilesRequest.WHICH_ALL: "",
}


class ImportJobServicer(pb2_grpc.ImportJobServiceServicer):
    def __init__(self, core: ImportJobCore) -> None:
        self.core = core

    def CreateImportJob(self, request, context):
        return jobs.job_to_proto(self.core.create(jobs.job_from_proto(request.import_job), request.request_id))

    def GetImportJob(self, request, context):
        return jobs.job_to_proto(self.core.get(request.id))

    def ListImportJobs(self, request, context):
        found, token = self.core.list_jobs(request.page_size, request.page_token)
        return pb2.ListImportJobsResponse(import_jobs=[jobs.job_to_proto(job) for job in found], next_page_token=token)

    def CancelImportJob(self, request, context):
        return jobs.job_to_proto(self.core.cancel(request.id))

    def ClaimImportJob(self, request, context):
        job = self.core.claim(request.holder, request.lease_seconds)
        if job is None:
            return pb2.ClaimImportJobResponse(claimed=False)
        return pb2.ClaimImportJobResponse(import_job=jobs.job_to_proto(job), claimed=True)

    def RenewImportJobLease(self, request, context):
        return jobs.job_to_proto(self.core.renew(request.id, request.holder, request.lease_seconds))

    def AddImportJobFiles(self, request, context):
        job = self.core.add_files(
            request.id, request.holder, request.first_ordinal, list(request.paths), request.listing_done
        )
        return jobs.job_to_proto(job)

    def ListImportJobFiles(self, request, context):
        which = _WHICH.get(request.which, "?")
        files = self.core.files(request.id, request.after_ordinal, request.page_size, which)
        return pb2.ListImportJobFilesResponse(files=[jobs.file_to_proto(file) for file in files])

    def CreateImportClips(self, request, context):
        drafts = [(convert.clip_from_proto(item.clip), item.request_id) for item in request.clips]
        results = self.core.create_clips(request.id, request.holder, drafts)
        return pb2.CreateImportClipsResponse(
            results=[
                pb2.ImportClipResult(clip=convert.clip_to_proto(clip) if clip else None, ours=ours, error=error)
                for clip, ours, error in results
            ]
        )

    def CompleteImportFiles(self, request, context):
        files = [
            jobs.CompletedFile(
                ordinal=item.ordinal,
                outcome=jobs.outcome_from_proto(item.outcome) or jobs.FileOutcome.FAILED,
                clip_id=item.clip_id,
                ready_segment_count=item.ready_segment_count,
                error=item.error,
            )
            for item in request.files
        ]
        return jobs.job_to_proto(self.core.complete(request.id, request.holder, files))

    def FinishImportJob(self, request, context):
        state = jobs.state_from_proto(request.state)
        return jobs.job_to_proto(self.core.finish(request.id, request.holder, state, request.error))
