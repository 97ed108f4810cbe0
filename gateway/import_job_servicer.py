"""The public ImportJobService: translates the proto to the gateway's import jobs and back, nothing else."""

from audiosearch.gateway.v1 import import_job_service_pb2 as pb2
from audiosearch.gateway.v1 import import_job_service_pb2_grpc as pb2_grpc
from audiosearch.runtime import convert
from audiosearch.runtime import import_jobs as jobs
from gateway.import_jobs import ImportJobs
from gateway.rebuild import Rebuilds


class ImportJobServicer(pb2_grpc.ImportJobServiceServicer):
    def __init__(self, jobs_: ImportJobs, rebuilds: Rebuilds) -> None:
        self.jobs = jobs_
        self.rebuilds = rebuilds

    def CreateImportJob(self, request, context):
        job = self.jobs.create(
            request.collection,
            request.path,
            request.recursive,
            convert.labels_from_proto(request.labels),
            request.label_from_parent,
            request.request_id,
        )
        return jobs.job_to_proto(job)

    def GetImportJob(self, request, context):
        return jobs.job_to_proto(self.jobs.get(request.id))

    def ListImportJobs(self, request, context):
        found, token = self.jobs.list_jobs(request.page_size, request.page_token)
        return pb2.ListImportJobsResponse(import_jobs=[jobs.job_to_proto(job) for job in found], next_page_token=token)

    def CancelImportJob(self, request, context):
        return jobs.job_to_proto(self.jobs.cancel(request.id))

    def WatchImportJob(self, request, context):
        for job in self.jobs.watch(request.id, context.is_active):
            yield jobs.job_to_proto(job)

    def ListImportJobFailures(self, request, context):
        files, token = self.jobs.failures(request.id, request.page_size, request.page_token)
        return pb2.ListImportJobFailuresResponse(
            failures=[jobs.file_to_proto(file) for file in files], next_page_token=token
        )

    def RebuildCollection(self, request, context):
        segments = convert.segments_from_proto(request.segments) if request.HasField("segments") else None
        return jobs.job_to_proto(self.rebuilds.create(request.collection, request.model, segments, request.request_id))
