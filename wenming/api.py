from ninja import NinjaAPI

api = NinjaAPI(title="Wenming API", version="1")
