"""Client of the metadata service's ImportJobService: the job records, their file listings and leases."""

from collections.abc import Sequence

import grpc

from audiosearch.metadata.v1 import import_job_service_pb2 as pb2
from audiosearch.metadata.v1 import import_job_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert, domain
from audiosearch.runtime import import_jobs as jobs
from audiosearch.sdk import services
from gateway.clients import _Peer

_WHICH = {
    "PENDING": pb2.ListImportJobFilesRequest.WHICH_PENDING,
    "FAILED": pb2.ListImportJobFilesRequest.WHICH_FAILED,
    "": pb2.ListImportJobFilesRequest.WHICH_ALL,
}


class ImportJobRecords(_Peer):
    service_name = services.IMPORT_JOB_RECORDS.full_name

    def __init__(self, channel: grpc.Channel, timeout_seconds: float) -> None:
        super().__init__(channel, timeout_seconds)
        self.stub = pb2_grpc.ImportJobServiceStub(channel)

    def _job(self, method, request) -> jobs.ImportJob:
        return jobs.job_from_proto(self._call(method, request))

    def create(self, job: jobs.ImportJob, request_id: str) -> jobs.ImportJob:
        request = pb2.CreateImportJobRequest(import_job=jobs.job_to_proto(job), request_id=request_id)
        return self._job(self.stub.CreateImportJob, request)

    def get(self, job_id: int) -> jobs.ImportJob:
        return self._job(self.stub.GetImportJob, pb2.GetImportJobRequest(id=job_id))

    def list_jobs(self, page_size: int, page_token: str) -> tuple[list[jobs.ImportJob], str]:
        request = pb2.ListImportJobsRequest(page_size=page_size, page_token=page_token)
        response = self._call(self.stub.ListImportJobs, request)
        return [jobs.job_from_proto(job) for job in response.import_jobs], response.next_page_token

    def cancel(self, job_id: int) -> jobs.ImportJob:
        return self._job(self.stub.CancelImportJob, pb2.CancelImportJobRequest(id=job_id))

    def claim(self, holder: str, lease_seconds: float) -> jobs.ImportJob | None:
        response = self._call(
            self.stub.ClaimImportJob, pb2.ClaimImportJobRequest(holder=holder, lease_seconds=lease_seconds)
        )
        return jobs.job_from_proto(response.import_job) if response.claimed else None

    def renew(self, job_id: int, holder: str, lease_seconds: float) -> jobs.ImportJob:
        request = pb2.RenewImportJobLeaseRequest(id=job_id, holder=holder, lease_seconds=lease_seconds)
        return self._job(self.stub.RenewImportJobLease, request)

    def add_files(
        self, job_id: int, holder: str, first_ordinal: int, paths: Sequence[str], done: bool
    ) -> jobs.ImportJob:
        request = pb2.AddImportJobFilesRequest(
            id=job_id, holder=holder, first_ordinal=first_ordinal, paths=paths, listing_done=done
        )
        return self._job(self.stub.AddImportJobFiles, request)

    def files(self, job_id: int, after_ordinal: int, page_size: int, which: str) -> list[jobs.ImportFile]:
        """which: 'PENDING' (no outcome yet), 'FAILED', or '' (all)."""
        request = pb2.ListImportJobFilesRequest(
            id=job_id, after_ordinal=after_ordinal, page_size=page_size, which=_WHICH[which]
        )
        return [jobs.file_from_proto(file) for file in self._call(self.stub.ListImportJobFiles, request).files]

    def create_clips(
        self, job_id: int, holder: str, drafts: Sequence[tuple[domain.Clip, str]]
    ) -> list[tuple[domain.Clip | None, bool, str]]:
        request = pb2.CreateImportClipsRequest(
            id=job_id,
            holder=holder,
            clips=[pb2.ImportClip(clip=convert.clip_to_proto(clip), request_id=rid) for clip, rid in drafts],
        )
        return [
            (convert.clip_from_proto(result.clip) if result.HasField("clip") else None, result.ours, result.error)
            for result in self._call(self.stub.CreateImportClips, request).results
        ]

    def complete(self, job_id: int, holder: str, files: Sequence[jobs.CompletedFile]) -> jobs.ImportJob:
        request = pb2.CompleteImportFilesRequest(
            id=job_id,
            holder=holder,
            files=[
                pb2.CompletedFile(
                    ordinal=file.ordinal,
                    outcome=jobs.outcome_to_proto(file.outcome),
                    clip_id=file.clip_id,
                    ready_segment_count=file.ready_segment_count,
                    error=file.error,
                )
                for file in files
            ],
        )
        return self._job(self.stub.CompleteImportFiles, request)

    def finish(self, job_id: int, holder: str, state: jobs.JobState, error: str) -> jobs.ImportJob:
        request = pb2.FinishImportJobRequest(id=job_id, holder=holder, state=jobs.state_to_proto(state), error=error)
        return self._job(self.stub.FinishImportJob, request)
