from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from . import services
from .serializers import ItemSerializer


class ItemViewSet(viewsets.ModelViewSet):
    """Each user sees and changes only their own items."""

    serializer_class = ItemSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return services.items_of(self.request.user)

    def perform_create(self, serializer: ItemSerializer) -> None:
        serializer.instance = services.create_item(self.request.user, **serializer.validated_data)
