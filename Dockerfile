# One image for the API and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY domain domain
COPY workers workers
RUN pip install --no-cache-dir .
USER nobody
EXPOSE 8000
CMD ["autopolicy", "serve"]
