"""Baseline for the benchmark: a FastAPI POST that validates the same body and does nothing else."""

from uuid import UUID

from fastapi import FastAPI

from indicators.measurements.schemas import MeasurementCreate

app = FastAPI()


@app.post("/api/v1/indicators/{indicator_id}/measurements", status_code=201)
async def record(indicator_id: UUID, body: MeasurementCreate) -> dict:
    """Echo the body: parsing and serialisation are all the work."""
    return {"indicator_id": str(indicator_id), **body.model_dump(mode="json")}
