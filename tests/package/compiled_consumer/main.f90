! Consumer of the installed Fortran module (maas::fortran / maas-fortran.pc).
program consumer
  use maas
  implicit none
  type(maas_model) :: model
  real(8) :: x(1, 4), y(1, 4)
  integer :: status
  x = 1
  y = 0
  status = model%predict(x, y)
  if (status /= MAAS_INVALID_ARGUMENT) stop 1
  print '(4a)', "maas ", maas_version(), " Fortran consumer ok: ", maas_status_name(status)
end program consumer
